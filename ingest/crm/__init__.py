"""The CRM entry store and the commands that are the only way to change a CRM record."""
