"""Who may do what: accounts and sessions, roles, and one pure ``decide(actor, action, resource)``."""
