"""The conversation: understanding in context, asking for what is missing, asking
before acting on a guess or on anything destructive, acting, and wording the reply
to be spoken. It knows no web framework and no command line: the composition root
(``agent.app``, ``agent.cli``) hands it its sessions, catalogue and parser."""
