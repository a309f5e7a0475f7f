"""Deploys of images as ECS services: task definition revisions, the service update, the wait
on the deployment's own outcome, rollback, and what a running app looks like."""
