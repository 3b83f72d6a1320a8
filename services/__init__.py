"""What a journey does, shared by its entry points (handlers, jobs, the command line): one
package or module per journey, between the entry points and the chat mechanisms (chat/):
the surveys (surveys/), staff's notices of enrolments (enrolment_notices.py)."""
