"""Jenkins as dockyard runs it: image contexts (package data), plugins and JCasC rendering."""
