"""The web domain: the services a screen needs, who may write, and the card workflow.

Dash callbacks (callbacks/) and the JSON routes (web/api.py) are thin adapters over these.
"""
