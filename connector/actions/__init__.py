"""Outbound actions (comments, setup rejections) exactly once."""

from connector.actions.loop import ActionLoop
from connector.actions.requests import REFUSED, request_action
from connector.actions.runner import run_action, run_due_actions

__all__ = ["REFUSED", "ActionLoop", "request_action", "run_action", "run_due_actions"]
