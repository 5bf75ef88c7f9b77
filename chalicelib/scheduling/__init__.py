"""Automatic updates: the two-hourly refresh of deployed User-Personalization models."""
