"""Importers that copy an app's data from elsewhere into Chinwag."""
