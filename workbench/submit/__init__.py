"""`workbench submit`: start a Workflow from the WorkflowTemplate through the Kubernetes API."""
