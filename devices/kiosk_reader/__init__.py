"""The kiosk reader (docs/protocol.md §8.1): a card reader and QR scanner beside a kiosk
screen, its reads kept for the paired screen, and the pairing itself."""
