"""What belongs to the user: settings (watchlists, profiles, theme), credentials in the OS keyring, the
checks a credential pair passes before it is stored, and "Test connection". No Qt."""
