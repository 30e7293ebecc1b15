"""The local audio library (spec §6): safe names (`names`), the folder (`store`), checked downloads
(`download`), and files as playable tracks (`local`)."""
