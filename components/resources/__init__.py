"""The Pulumi ComponentResources: each declares its Kubernetes objects from what the builders make."""
