// Demo sign-in accounts arrive with the accounts-and-roles issue; until then the dashboard is open.
