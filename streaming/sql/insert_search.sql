INSERT INTO search_feed
SELECT document FROM search_documents
