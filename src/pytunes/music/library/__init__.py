"""The local audio library (docs/commands.md, 'Local library'): safe names (`names`), the folder
(`store`), checked downloads (`download`), and files as playable tracks (`local`)."""
