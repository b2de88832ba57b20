#!/usr/bin/env python3
"""Regenerates the committed extraction corpus with third-party producers (not our own writers), so the extractors
are tested on files shaped the way other software writes them:

    python3 -m venv /tmp/corpus-gen
    /tmp/corpus-gen/bin/pip install fpdf2 reportlab python-docx python-pptx openpyxl odfpy
    /tmp/corpus-gen/bin/python tests/corpus/generate.py

The files are committed (the test suite never needs Python); `tests/extract_corpus.rs` asserts their text. Output
is deterministic where the libraries allow (fixed creation dates); a regenerated file may still differ in bytes.
"""

import datetime
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED = datetime.datetime(2026, 1, 15, 9, 30, 0, tzinfo=datetime.timezone.utc)
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def out(name):
    return os.path.join(HERE, name)


def reportlab_pdf():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(out("reportlab.pdf"), pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle("Quarterly review")
    c.setFont("Helvetica-Bold", 18)
    c.drawString(72, 770, "Quarterly review")
    c.setFont("Helvetica", 11)
    c.drawString(72, 740, "Revenue grew in every region; the café opened in March.")
    text = c.beginText(72, 710)
    text.setFont("Times-Roman", 11)
    for line in ["Action items:", "1. Hire two engineers", "2. Migrate the search cluster"]:
        text.textLine(line)
    c.drawText(text)
    c.showPage()
    c.setFont("Courier", 10)
    c.drawString(72, 770, "Page two: appendix with “curly quotes” and an em dash — here.")
    c.showPage()
    c.save()


def fpdf2_pdf():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(FIXED)
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.add_page()
    pdf.set_font("DejaVu", size=12)
    pdf.cell(text="Release notes — version 2.1", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        w=0,
        text="Zürich, Kraków and Ελληνικά are spelled correctly. Привет, мир!",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(text="Second page in a core font.")
    pdf.output(out("fpdf2.pdf"))


def docx():
    import docx

    d = docx.Document()
    d.core_properties.created = FIXED.replace(tzinfo=None)
    d.core_properties.modified = FIXED.replace(tzinfo=None)
    d.sections[0].header.paragraphs[0].text = "Contoso confidential"
    d.sections[0].footer.paragraphs[0].text = "Page footer text"
    d.add_heading("Project kickoff", level=1)
    p = d.add_paragraph("The kickoff is on ")
    p.add_run("Monday").bold = True
    p.add_run(" in room 4.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Owner"
    table.cell(0, 1).text = "Task"
    table.cell(1, 0).text = "Ana"
    table.cell(1, 1).text = "Budget"
    d.add_paragraph("Naïve résumé of the plan.")
    d.save(out("python-docx.docx"))


def pptx():
    from pptx import Presentation

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "Roadmap 2026"
    slide.placeholders[1].text_frame.text = "Ship the connector"
    slide.placeholders[1].text_frame.add_paragraph().text = "Measure everything"
    slide.notes_slide.notes_text_frame.text = "Speaker notes: mention the benchmarks."
    second = prs.slides.add_slide(prs.slide_layouts[5])
    second.shapes.title.text = "Questions?"
    prs.core_properties.created = FIXED.replace(tzinfo=None)
    prs.core_properties.modified = FIXED.replace(tzinfo=None)
    prs.save(out("python-pptx.pptx"))


def xlsx():
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Item", "Cost"])
    ws.append(["Laptops", 12000])
    ws.append(["Travel", 3500.5])
    ws["D1"] = "Total"
    ws["D2"] = "=SUM(B2:B3)"
    other = wb.create_sheet("Notes")
    other["A1"] = "Approved by finance"
    wb.properties.created = FIXED.replace(tzinfo=None)
    wb.properties.modified = FIXED.replace(tzinfo=None)
    wb.save(out("openpyxl.xlsx"))


def odt():
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Meeting minutes"))
    doc.text.addElement(P(text="Attendees agreed on the schedule."))
    table = Table(name="Votes")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row in [("Option", "Votes"), ("Blue", "7")]:
        tr = TableRow()
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.text.addElement(table)
    doc.text.addElement(P(text="Next meeting in Łódź."))
    doc.save(out("odfpy.odt"))


def normalize_zip(name):
    """Rewrites a zip with fixed member timestamps so regeneration is byte-stable."""
    path = out(name)
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 15, 9, 30, 0))
            # ODF's `mimetype` must stay first and stored.
            stored = info.filename == "mimetype"
            fixed.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            dst.writestr(fixed, data)


def texts():
    with open(out("utf16.txt"), "wb") as f:
        f.write("Grüße aus Köln — UTF-16 with a byte-order mark.\n".encode("utf-16"))
    with open(out("latin1.csv"), "wb") as f:
        f.write("name;city\nJosé;São Paulo\n".encode("latin-1"))


if __name__ == "__main__":
    reportlab_pdf()
    fpdf2_pdf()
    docx()
    pptx()
    xlsx()
    odt()
    for name in ["python-docx.docx", "python-pptx.pptx", "openpyxl.xlsx", "odfpy.odt"]:
        normalize_zip(name)
    texts()
