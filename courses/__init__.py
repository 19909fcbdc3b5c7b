"""Courses plugin: courses, modules, lessons, enrolments, progress and live sessions."""
