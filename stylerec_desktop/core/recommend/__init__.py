"""Style-aware recommendations: image features, the in-memory style index, customer tastes, explained rankings,
similar products and an offline evaluation against baselines.

The modules, in the order data flows through them:

- :mod:`.features` — what is computed per image (style vector, visual embedding, palette, pattern descriptor).
- :mod:`.indexing` — the resumable job that computes and stores those features for every product image.
- :mod:`.index` — every indexed product's vectors as in-memory matrices, plus the interaction data.
- :mod:`.behaviour` — co-occurrence and popularity from all customers' events.
- :mod:`.taste` — a customer's style taste(s) from their weighted, decayed history.
- :mod:`.ranking` — the blended score, filters and MMR diversity; :mod:`.explain` says why.
- :mod:`.similar` — products like a given one.
- :mod:`.evaluate` — temporal-split evaluation of our ranking and the baselines.
- :mod:`.learned` (training loop in :mod:`.learned_fit`) — a model trained on the catalog's own events, with the
  products' looks and attributes as side information: one more signal, and cold-start products scored by looks.
- :mod:`.service` — one-call entry points for the CLI and the GUI (cached index, explained recommendations, a
  customer's taste as a Style engine input).
"""
