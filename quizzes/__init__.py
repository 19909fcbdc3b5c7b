"""Quizzes plugin: question bank, quizzes, attempts, server-side scoring, GIFT/Aiken."""
