"""People and permissions: roles, passwords, sign-in, sessions, tokens, kiosk links, single sign-on (docs/security.md)."""
