"""The desktop window (PySide6 on the qasync loop). Everything below app/ui imports Qt; nothing else does."""
