"""The console's resident and staff pages: the resident list, one resident's page, accounts."""
