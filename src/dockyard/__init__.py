"""dockyard: a whole CI/CD platform on AWS ECS Fargate, with no Docker daemon anywhere."""

__version__ = "0.1.0"
