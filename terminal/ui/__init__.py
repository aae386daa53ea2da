"""Kivy screens and widgets. Thin: they call :mod:`terminal.services` and hold no shop rules."""
