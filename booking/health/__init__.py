"""Blood-pressure readings: consent, identifying a resident at the terminal, checks on
values, classification by guideline, follow-up alerts, FHIR export, retention.
"""
