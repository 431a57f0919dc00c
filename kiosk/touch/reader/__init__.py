"""The kiosk screen's reader: pairing the screen with it (``setup``), taking its reads
(``next_read``) and what each read leads to (``acts``: a card's sign-in, a booking slip's
check-in, a loan slip's return), with the pages that show them (``card_sign_in``,
``results``)."""
