"""Policies: what answers a conversation with tool calls (scripted ones, chat endpoints, local models, the reward-hacking cheat)."""
