"""The ClearCorrect portal as this adapter knows it: the only place that knows its URLs,
selectors, field names, cookies, JSON keys and words.

- `webforms`: the WebForms partner pages (the primary path; register variant `webforms`);
- `app`: the ASP.NET Core Identity sign-in and its JSON API (the optional fast path; register
  variant `aspnetcore-json`);
- `labels`: the words read in every language; `html`: the small document model;
- `facts`: the register facts all of them declare (`FACTS`) and the unverified ones.
"""

from adapters.clearcorrect.site.facts import FACTS, UNVERIFIED

__all__ = ["FACTS", "UNVERIFIED"]
