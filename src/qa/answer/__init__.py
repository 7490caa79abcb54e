"""Answers: score retrieved sentences, select and cite them, or abstain."""
