"""The three services of the R-24-89 system and the ``civicsocial`` command line."""
