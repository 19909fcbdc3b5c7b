"""Core of the ICT Greening Up learning platform: app factory, plugin manager, people and
companies, authentication, administration, i18n and the base layout."""
