package webhook

var (
	hubFields    = []string{"ref", "before", "after", "created", "deleted", "size", "total_commits", "commits", "head_commit", "repository", "pusher"}
	repoFields   = []string{"full_name", "html_url", "clone_url"}
	pusherFields = []string{"name", "login", "username"}
	commitFields = []string{"added", "removed", "modified", "id", "message", "url", "timestamp", "author"}
	authorFields = []string{"name", "email"}
)

// decodeHub decodes a GitHub/Gitea push payload with the scanner into
// the hubPush encoding/json would fill, except that of the listed commits
// only the file lists are decoded, and the last one in full (the head
// commit when head_commit is missing).
func decodeHub(body []byte, in *hubPush) error {
	s := &scanner{b: body}
	lastStart, lastEnd := -1, -1
	err := s.object(func(k []byte) error {
		var err error
		switch field(k, hubFields) {
		case 0:
			in.Ref, err = s.str()
		case 1:
			in.Before, err = s.str()
		case 2:
			in.After, err = s.str()
		case 3:
			in.Created, err = s.boolean()
		case 4:
			in.Deleted, err = s.boolean()
		case 5:
			in.Size, err = s.intPtr()
		case 6:
			in.TotalCommits, err = s.intPtr()
		case 7:
			lastStart = -1
			in.files = files{}
			in.longestList = 0
			if n, e := s.null(); n || e != nil {
				in.Commits = nil
				return e
			}
			n := 0
			err = s.array(func() error {
				n++
				lastStart = s.i
				err := s.commitFiles(in)
				lastEnd = s.i
				return err
			})
			// all zero but the last, decoded below: one allocation
			in.Commits = make([]hubCommit, n)
		case 8:
			if n, e := s.null(); n || e != nil {
				in.HeadCommit = nil
				return e
			}
			if in.HeadCommit == nil {
				in.HeadCommit = new(hubCommit)
			}
			err = s.commit(in.HeadCommit, true)
		case 9:
			err = s.object(func(k []byte) error {
				var err error
				switch field(k, repoFields) {
				case 0:
					in.Repository.FullName, err = s.str()
				case 1:
					in.Repository.HTMLURL, err = s.str()
				case 2:
					in.Repository.CloneURL, err = s.str()
				default:
					err = s.skip()
				}
				return err
			})
		case 10:
			err = s.object(func(k []byte) error {
				var err error
				switch field(k, pusherFields) {
				case 0:
					in.Pusher.Name, err = s.str()
				case 1:
					in.Pusher.Login, err = s.str()
				case 2:
					in.Pusher.Username, err = s.str()
				default:
					err = s.skip()
				}
				return err
			})
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := s.end(); err != nil {
		return err
	}
	if lastStart >= 0 && len(in.Commits) > 0 {
		s.b, s.i = body[:lastEnd], lastStart
		return s.commit(&in.Commits[len(in.Commits)-1], true)
	}
	return nil
}

func (s *scanner) intPtr() (*int, error) {
	n, ok, err := s.integer()
	if !ok || err != nil {
		return nil, err
	}
	return &n, nil
}

// commitFiles reads a listed commit for its file lists only, adding the
// paths straight to in.files (a path already seen costs no allocation).
// The other members are skipped by walk: this runs for every listed
// commit, and skipping member by member with object() cost twice as much.
func (s *scanner) commitFiles(in *hubPush) error {
	if in.files.seen == nil {
		in.files.grow(64)
	}
	if c := s.peek(); c != '{' && c != 'n' {
		return s.fail("want an object")
	}
	return s.walk(func(k []byte) (bool, error) {
		if !fileList(k) {
			return false, nil
		}
		return true, s.paths(in)
	})
}

// paths reads a file list of a listed commit into in.files.
func (s *scanner) paths(in *hubPush) error {
	n := 0
	err := s.array(func() error {
		n++
		if isNull, err := s.null(); isNull || err != nil {
			in.files.addOne("")
			return err
		}
		raw, esc, err := s.rawString()
		if err != nil {
			return err
		}
		if esc {
			in.files.addOne(s.keep(raw, true))
		} else if _, seen := in.files.seen[string(raw)]; !seen {
			in.files.addOne(s.keep(raw, false))
		}
		return nil
	})
	in.longestList = max(in.longestList, n)
	return err
}

// commit decodes a commit object; unless full, only its file lists.
func (s *scanner) commit(c *hubCommit, full bool) error {
	return s.object(func(k []byte) error {
		var err error
		i := field(k, commitFields)
		if i > 2 && !full {
			return s.skip()
		}
		switch i {
		case 0:
			c.Added, err = s.strs()
		case 1:
			c.Removed, err = s.strs()
		case 2:
			c.Modified, err = s.strs()
		case 3:
			c.ID, err = s.str()
		case 4:
			c.Message, err = s.str()
		case 5:
			c.URL, err = s.str()
		case 6:
			var v string
			if v, err = s.str(); err == nil {
				c.Timestamp = stamp{}
				c.Timestamp.set(v)
			}
		case 7:
			err = s.object(func(k []byte) error {
				var err error
				switch field(k, authorFields) {
				case 0:
					c.Author.Name, err = s.str()
				case 1:
					c.Author.Email, err = s.str()
				default:
					err = s.skip()
				}
				return err
			})
		default:
			err = s.skip()
		}
		return err
	})
}

// fileList reports whether a listed commit's key is one of its file
// lists, "added", "removed" or "modified" (the first three commitFields),
// matched as field matches. It runs for every member of every listed
// commit, hence the switch (no loop) for the usual keys.
func fileList(k []byte) bool {
	switch string(k) {
	case "added", "removed", "modified":
		return true
	case "id", "tree_id", "distinct", "message", "timestamp", "url", "author", "committer":
		return false
	}
	return foldable(k) && field(k, commitFields[:3]) >= 0
}
