"""The WebForms partner pages (variant `webforms`, the default): `.aspx` pages posting back to
themselves with view state and event validation, as the public code written against the real
portal shows them (register facts `cc.wf.*`). See ROUTES.md."""
