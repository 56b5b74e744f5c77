"""Pure builders from twin state and model output to deck.gl layer specs."""
