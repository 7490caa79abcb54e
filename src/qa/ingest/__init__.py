"""Files → Documents: corpus discovery and safe paths, decoding, normalisation, and the
txt, md, html and pdf readers. Pure logic: nothing here embeds or indexes."""
