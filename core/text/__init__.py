"""Voice of the customer: comment sentiment and themes (Chinese and English), and KANO.

- language.py: each comment cleaned (HTML tags dropped, control characters blanked, long
  comments cut) and its language told from its script (Han characters against Latin words).
- sentiment.py: a score in [-1, 1] and a label per comment, English through VADER
  (Hutto & Gilbert 2014), Chinese through SnowNLP's shipped sentiment model.
- comments.py: `report.comments`, sentiment per comment and its summary by NPS group,
  segment and channel, and themes (top terms per sentiment).
- kano.py: `report.kano`, the Kano evaluation table and Better/Worse coefficients.

The libraries (vaderSentiment, snownlp, jieba) are imported inside functions, so the CLI
starts without them and the jieba dictionary loads once, on first use.
"""
