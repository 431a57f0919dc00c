"""The community's resident roster as a file: read from CSV or Excel (:mod:`.reading`),
checked row by row without writing anything (:mod:`.checking`), imported once the operator
has seen the report (:mod:`.importing`), and written back out (:mod:`.exporting`).

The columns, their Chinese and English names and how a cell's text becomes a value are in
:mod:`.columns`; the rules a resident's details must pass are enrolment's
(booking.people.enrolment), the same for one resident typed at the desk and for 12,000 in a
file.
"""
