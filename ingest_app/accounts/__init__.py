"""Accounts: password hashing and tokens (security.py), registration and sign-in (users.py), the
sign-in rate limiter (ratelimit.py). The web app and the API use them; the worker never does (it
issues and verifies no tokens, and its zip leaves PyJWT and passlib out)."""
