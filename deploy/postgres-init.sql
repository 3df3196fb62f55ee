-- One database per service: no service reads another's tables.
CREATE DATABASE feedback_api;
CREATE DATABASE case_api;
