"""Offline planning: render, validate and summarise the platform without an AWS account."""
