"""Core request handlers, one blueprint per area. Views are thin: parse the form, call a
service, commit once, render or redirect."""
