"""The shared chat mechanisms: languages, signed buttons, the per-update context, replying,
command menus and conversations as declared flows. Handlers and jobs stand on these."""
