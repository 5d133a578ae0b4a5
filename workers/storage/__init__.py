"""Where finished media is kept and how it is addressed."""
