package webhook

// decodeHub decodes a GitHub/Gitea push payload with the scanner; it
// fills the same hubPush that encoding/json would.
func decodeHub(body []byte, in *hubPush) error {
	s := &scanner{b: body}
	err := s.object(func(k []byte) error {
		var err error
		switch {
		case keyIs(k, "ref"):
			in.Ref, err = s.str()
		case keyIs(k, "before"):
			in.Before, err = s.str()
		case keyIs(k, "after"):
			in.After, err = s.str()
		case keyIs(k, "created"):
			in.Created, err = s.boolean()
		case keyIs(k, "deleted"):
			in.Deleted, err = s.boolean()
		case keyIs(k, "size"):
			in.Size, err = s.intPtr()
		case keyIs(k, "total_commits"):
			in.TotalCommits, err = s.intPtr()
		case keyIs(k, "commits"):
			if n, e := s.null(); n || e != nil {
				in.Commits = nil
				return e
			}
			in.Commits = in.Commits[:0]
			err = s.array(func() error {
				in.Commits = append(in.Commits, hubCommit{})
				return s.commit(&in.Commits[len(in.Commits)-1])
			})
		case keyIs(k, "head_commit"):
			if n, e := s.null(); n || e != nil {
				in.HeadCommit = nil
				return e
			}
			if in.HeadCommit == nil {
				in.HeadCommit = new(hubCommit)
			}
			err = s.commit(in.HeadCommit)
		case keyIs(k, "repository"):
			err = s.object(func(k []byte) error {
				var err error
				switch {
				case keyIs(k, "full_name"):
					in.Repository.FullName, err = s.str()
				case keyIs(k, "html_url"):
					in.Repository.HTMLURL, err = s.str()
				case keyIs(k, "clone_url"):
					in.Repository.CloneURL, err = s.str()
				default:
					err = s.skip()
				}
				return err
			})
		case keyIs(k, "pusher"):
			err = s.object(func(k []byte) error {
				var err error
				switch {
				case keyIs(k, "name"):
					in.Pusher.Name, err = s.str()
				case keyIs(k, "login"):
					in.Pusher.Login, err = s.str()
				case keyIs(k, "username"):
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
	return s.end()
}

func (s *scanner) intPtr() (*int, error) {
	n, ok, err := s.integer()
	if !ok || err != nil {
		return nil, err
	}
	return &n, nil
}

func (s *scanner) commit(c *hubCommit) error {
	return s.object(func(k []byte) error {
		var err error
		switch {
		case keyIs(k, "id"):
			c.ID, err = s.str()
		case keyIs(k, "message"):
			c.Message, err = s.str()
		case keyIs(k, "url"):
			c.URL, err = s.str()
		case keyIs(k, "timestamp"):
			var v string
			if v, err = s.str(); err == nil {
				c.Timestamp = stamp{}
				c.Timestamp.set(v)
			}
		case keyIs(k, "author"):
			err = s.object(func(k []byte) error {
				var err error
				switch {
				case keyIs(k, "name"):
					c.Author.Name, err = s.str()
				case keyIs(k, "email"):
					c.Author.Email, err = s.str()
				default:
					err = s.skip()
				}
				return err
			})
		case keyIs(k, "added"):
			c.Added, err = s.strs()
		case keyIs(k, "removed"):
			c.Removed, err = s.strs()
		case keyIs(k, "modified"):
			c.Modified, err = s.strs()
		default:
			err = s.skip()
		}
		return err
	})
}
