"""Voice of the customer: comment sentiment, themes, topics and drivers (Chinese and
English), and KANO.

- language.py: each comment cleaned (HTML tags dropped, control characters blanked, long
  comments cut) and its language told from its script (Han characters against Latin words).
- words.py: Chinese words (jieba's dictionary and algorithm, by jieba-rs), split once.
- snownlp_data.py: SnowNLP's sentiment model, stop words and traditional -> simplified
  table, read from its files and applied to all comments at once.
- sentiment.py: a score in [-1, 1] and a label per comment, English through VADER
  (Hutto & Gilbert 2014), Chinese through SnowNLP's shipped sentiment model.
- themes.py: the terms of each comment; themes per sentiment; theme shares by group.
- topics.py: NMF topics over the comments' terms.
- comments.py: `report.comments`, sentiment per comment and its summary by NPS group,
  month and segment, themes, theme shares by group and month, topics.
- drivers.py: `report.comment_drivers`, odds ratios of themes, detractors vs promoters.
- kano.py: `report.kano`, the Kano evaluation table and Better/Worse coefficients.

The libraries (vaderSentiment, rjieba, scikit-learn) are imported inside functions, so the
CLI starts without them; SnowNLP's files are read on first use, once.
"""
