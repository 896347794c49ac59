"""The browser app and its built bundle, served at /."""
