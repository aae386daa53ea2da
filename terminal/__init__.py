"""POS terminal application: domain (core), persistence (store), services and Kivy UI (ui)."""
