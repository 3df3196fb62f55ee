"""The staff console: a server-rendered backend-for-frontend over policy_api, feedback_api and case_api."""
