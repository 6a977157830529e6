"""OCR of scanned drawings: engines, page rendering, positioned words.

``layout.Word`` is the neutral positioned-text item (text, box, confidence) the
engines return; ``pdfpages.PdfOcr`` serves the PDF extractor, ``run`` the raster one.
"""
