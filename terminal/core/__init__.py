"""Shop rules: catalogue, cart, taxes, tenders, numbering.

Pure Python: imports neither Kivy, nor hal, nor the database. Time is injected.
"""
