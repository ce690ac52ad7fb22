"""The service hall (政务服务大厅): the public's side of the land window.

Windows and their officers, acceptance receipts and query codes, the public query, star ratings and
their follow-up cases, call-back surveys, rankings and appointments (issue 10; docs/public-side.md).
"""
