"""Plan documents in: reading .txt and .docx files into paragraphs for the importer.

``read_plan_file(path)`` gives the paragraphs of a plan document as
``planflow.core.content.importer.Line`` values, or refuses with a
``DocumentRefused`` whose code names the rule (``docs/codes.md``): too big,
empty, binary, a kind it cannot read, a damaged Word file. The text of a
.txt file is decoded by ``encodings``; a .docx is read by ``docx_reading``.
"""
