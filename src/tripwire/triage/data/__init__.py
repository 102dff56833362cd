"""The versioned, labelled report sets triage trains and is evaluated on (see ``compose``)."""
